package postgres

// Migrations returns the schema steps, for the upgrade test.
func Migrations() []string { return migrations }
