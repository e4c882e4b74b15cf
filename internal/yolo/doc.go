// Package yolo decides whether a command an agent asked for may run, and
// runs it confined to a workspace.
//
// Check(mode, text, workspace, policy) returns a Plan or a *Refusal naming
// the rule that refused and what to do instead; Run(ctx, Spec) runs a Plan.
// Workspace validates the directory first. Redacting secrets from the
// output, human approval and audit are the caller's.
//
// # Every mode
//
// Refused: control characters other than tab and newline; invisible
// characters (zero-width, bidirectional overrides, non-ASCII spaces); and
// characters that look like ASCII without being it: anything whose NFKC
// form is ASCII (fullwidth ｌｓ, mathematical 𝐫𝐦, ligatures ﬁ) and
// Cyrillic, Greek and other homoglyphs (the Cyrillic о in /hоme). The
// message names the code point. Other non-ASCII text (café, 日本) is fine,
// but words in Cyrillic or Greek usually contain a homoglyph and are
// refused: put such text in a file.
//
// # Safe
//
// One program run directly, without a shell. The text is split into words
// like a shell would (quotes and backslashes work), but pipes,
// redirections, ;, &&, ||, &, variables, $(...), backticks, unquoted globs,
// brace expansion, ~ and leading assignments are refused. The program is
// a bare name looked up in PATH (no /bin/ls) from this read-only list:
//
//	ls cat head tail wc stat du pwd echo cut cmp basename dirname realpath
//	md5sum sha1sum sha256sum true false diff grep egrep fgrep rg sort file
//	tree find uniq git go
//
// Options are parsed the way each program parses them (options.go):
// GNU getopt_long with unique-prefix abbreviations, --opt=value, --opt
// value and short clusters with glued values; Go's flag syntax for go;
// find's expression words; git's subcommand options likewise. Every
// option is looked up in the program's table of options known to be
// read-only, and any other is refused (rule unknown-option), so a new or
// abbreviated dangerous option cannot pass unseen. Refused outright (rule
// not-read-only): sort -o/--output/-T/--compress-program/--files0-from,
// rg --pre/--pre-glob/-z, file -C, tree -o/-R/--fromfile, find -exec,
// -execdir, -ok, -okdir, -delete, -fprint, -fprint0, -fprintf, -fls,
// -files0-from, diff -l (runs pr), wc and du --files0-from; uniq takes one
// file operand.
//
// git: only status, diff, log, show, branch (listing: no creating,
// deleting, moving or upstream changes) and rev-parse; of the global
// options only -C DIR, --no-pager, --no-optional-locks,
// --no-replace-objects and the pathspec ones; not --output, --ext-diff,
// --textconv or --show-signature. Every git command
// runs as git --no-pager -c core.fsmonitor= -c core.pager=cat
// -c diff.external= -c core.hooksPath=/dev/null -c log.showSignature=false
// -c core.sshCommand=false -c protocol.allow=never -c core.askPass=false
// -c credential.helper= -c gpg.program=false -c gpg.openpgp.program=false
// -c gpg.x509.program=false -c gpg.ssh.program=false ..., and diff, log and
// show get --no-ext-diff --no-textconv. Check also reads the names of the
// clean/smudge/process filters the configuration defines (git config
// --get-regexp, which runs nothing) and switches each off with -c
// filter.NAME.clean= and so on, since git status and git diff run them on
// changed files; Run reads them again just before starting, in case they
// changed during approval. So repository configuration cannot make these
// commands run a program through fsmonitor, pagers, external diff,
// textconv, filters, hooks or gpg (%G? placeholders included); the
// environment adds GIT_CONFIG_NOSYSTEM=1 and GIT_OPTIONAL_LOCKS=0 (status
// does not rewrite the index). Settings git may add in later versions are
// not covered: run with the sandbox when the repository is not trusted.
//
// go: only go test, go vet and go build, with known flags only and not
// -exec, -toolexec, -vettool or -overlay. go test RUNS THE WORKSPACE'S CODE (tests, init functions,
// TestMain), and go build and go vet run cgo and compilers on it: in safe
// mode, go test is as powerful as the code in the workspace. GOTOOLCHAIN
// is local unless the operator set it, so a go.mod cannot make go download
// and run another toolchain.
//
// Paths: every argument that may name a file (operands, the value of
// --flag=value, the glued value of -Xvalue, the directory of git -C) is
// resolved against the workspace, following symlinks through the longest
// existing prefix and dangling symlinks; if it lands outside (an absolute
// path, .., a symlink pointing out) the command is refused. Text that is
// not a path is exempt: echo's arguments and the pattern of grep and rg.
// Anything else that looks absolute is refused even when it is not a path
// (git log --grep=/api): rephrase it.
//
// # Restricted
//
// Safe, plus commands matching one of the operator's Policy.Allow patterns
// (syntax in Policy), minus commands matching Policy.Deny; still one
// program without a shell, with the same path rule, and the yolo hard
// deny list below applied to the argv too. An allowed pattern replaces the
// safe list's per-program exceptions for the commands it matches (an
// operator who allows "find *" allows find -delete), but not the git
// global-option refusals, the git neutralisation or the path rule.
//
// # YOLO
//
// The text runs as bash --norc --noprofile -c TEXT: anything a shell can
// do, except what the analysis below refuses. The text is parsed as bash
// (mvdan.cc/sh), the shell that runs it, and every command in it is
// checked, including those inside sh -c/bash -c/zsh -c/su -c scripts,
// eval, trap, watch and env -S strings, heredocs and here-strings fed to a
// shell, $(...), backticks, <(...), functions, loops, conditionals and
// subshells, behind the prefixes env, command, builtin, exec, nice, nohup,
// timeout, xargs, busybox, sudo, doas, time, stdbuf, ionice, setsid, chrt,
// taskset, unbuffer, strace, ltrace, fakeroot, chroot, flock, unshare,
// nsenter and find -exec, with the program's directory ignored (/bin/rm is
// rm). Quotes and backslashes are resolved first (r'm', "rm" -r"f", \rm).
// A word the shell computes at run time ($VAR, ${VAR}, $(...), $'...',
// {a,b}, ~user) is not literal. Refused:
//
//   - a program name that is not literal or is a glob ($RM, $(echo rm), /bin/r?);
//   - recursive rm of /, the home directory or an ancestor of it, however
//     spelled (/*, //, /usr/.., ~, ~/, ~/*, cd ~; rm -rf *);
//   - rm whose target is not literal (rm -rf $X, "$HOME", $(...), xargs rm);
//   - mkfs*, mke2fs, mkswap, wipefs, fdisk, sfdisk, parted, blkdiscard,
//     cryptsetup and similar disk tools;
//   - writing to a block device (/dev/sd*, /dev/nvme*, /dev/mmcblk*,
//     /dev/vd*, /dev/loop*, /dev/dm-*, /dev/mapper/...) by redirection, dd
//     of=, tee, cp or any writer below;
//   - writes outside the workspace where the analysis can see them:
//     redirections (>, >>, &>, >|, <>), tee, cp/mv/install/ln/rsync
//     destinations, mv sources, rm, rmdir, unlink, shred, truncate, touch,
//     mkdir, mkfifo, mknod operands, chmod/chown/chgrp/chattr/setfacl
//     operands, dd of=, sed -i files, curl -o/--output-dir, wget -O/-P,
//     find -delete/-fprint start points, and links (ln, ln -s, cp -l,
//     cp -s) to a target outside;
//     /dev/null, /dev/std*, /dev/fd/*, /dev/tty and bash's /dev/tcp and
//     /dev/udp are fine. A write target that is not literal is refused,
//     and so is a relative one after a cd the analysis cannot follow
//     (cd $X, cd -, pushd, popd);
//   - chmod/chown/chgrp -R of / or the home directory;
//   - fork bombs: a function that calls itself (directly or through other
//     functions) and starts processes in a pipeline or in the background,
//     under any name (:(){ :|:& };:, bomb(){ bomb|bomb& };bomb), and
//     endless loops (while true, while :, until false, for ((;;))) that
//     start background processes;
//   - downloaded code run unseen: a downloader (curl, wget, fetch, aria2c,
//     nc, socat, ssh, ...) piped into a shell or an interpreter (python,
//     perl, ruby, node, php, ...) that reads its program from stdin; a
//     shell, source or interpreter whose script is a <(download) or whose
//     -c/-e script is $(download);
//   - a shell or source reading its script from a pipe, a redirected stdin,
//     another descriptor or a computed path, and eval/sh -c of a computed
//     string: the analysis cannot see them;
//   - shutdown, reboot, halt, poweroff, kexec, init/telinit with a
//     runlevel, systemctl/loginctl poweroff/reboot/halt/suspend/...,
//     kill -1, kill 0 and kill -PGID (every process, or whole groups), and
//     pkill, killall, killall5, skill and slay (processes by name);
//   - mount, umount, losetup, swapon, swapoff with arguments (a bind mount
//     would make a delete in the workspace reach outside);
//   - alias definitions, hash -p and enable with arguments, which rename or
//     swap commands behind the analysis, and functions named like a
//     command the analysis gives a meaning (cd, rm, env, sh, eval, tee,
//     ...); systemd-run, at, batch, crontab, which run commands outside
//     the process tree Run can stop;
//   - Policy.Deny patterns, matched against every command found, where a
//     computed argument matches any pattern word;
//   - anything that does not parse, nesting deeper than 8 levels, more
//     than 5000 simple commands to check, and text over MaxText bytes.
//
// The analysis follows cd through the text (cd build && rm -rf * is
// fine; cd / && rm -rf * is not), treats a relative write after a cd it
// cannot follow as unknown, and treats ~ and cd as unknown when the text
// assigns HOME or CDPATH. Options of a prefix are parsed per tool; every
// operand before the command it finds is also checked as if the command
// started there, so a misread option can only refuse more.
//
// What yolo mode cannot see, and so does not refuse: what a script file,
// Makefile, package.json script, git alias or hook, or program does when
// it runs (sh ./x.sh, make, npm test, python -c '...', perl -e, awk
// 'BEGIN{system(...)}'); writes through programs that are not listed
// writers (tar -C /, unzip -d /, go build -o /usr/bin/x, git clone x
// /etc/y); effects of earlier commands of the same text on the filesystem
// the analysis looked at (a file created, then run); commands that build
// what they run from data at run time in ways the parser does not show.
// The deny list guards against mistakes and naive tricks, not against a
// determined adversary: for that, the sandbox is the boundary.
//
// # Running
//
// Run starts the Plan in the workspace with stdin from /dev/null, the
// ScrubbedEnv environment (unless Spec.Env is set) and a process group of
// its own. On timeout or cancellation the group gets SIGTERM and, after
// KillGrace, SIGKILL. Whenever the command ends, every process it left
// behind is killed, including descendants that left the group with setsid
// or a double fork: the bridge becomes a child subreaper so they are
// re-parented to it, and they are recognised through /proc by a per-run
// marker variable. A descendant that replaced its environment and whose
// ancestors all exited is still killed when no other Run is in progress,
// it started after the command, and it is not in the bridge's own process
// group; so when Runs overlap, such a process can outlive its Run until a
// later cleanup finds it. Becoming a subreaper is process-wide: orphans of
// anything else the bridge starts are re-parented to it too, and a Run's
// cleanup reaps (and, under the rule above, kills) them.
// Output (stdout and stderr interleaved) is kept up to MaxOutput bytes
// while streaming; the rest is counted and dropped.
//
// # The sandbox
//
// Every command runs under bubblewrap wherever it can create its
// namespaces (sandbox_linux.go). Always: Spec.Hide (the bridge's database,
// key and their directories) and HiddenPaths (credential stores) are
// masked; /tmp, /var/tmp and /run are private and empty, so no host Unix
// socket is reachable; /dev and /proc are fresh; new user (where
// possible), pid, ipc, uts and cgroup namespaces, so the command can
// signal only its own processes and cannot reach the bridge through
// /proc; no capabilities; a new session; it dies with the bridge. With
// Spec.Sandbox (strict) / is also read-only except the workspace and the
// network namespace is new (loopback only, no abstract sockets); without
// it (light) the filesystem stays writable and the network shared.
//
// Without bubblewrap (missing, or no namespaces here), Spec.Sandbox is a
// *Refusal saying why; otherwise only safe mode runs, and only commands
// that cannot reach past their arguments (unconfined.go): not go or git,
// no option that follows symbolic links or reads file names from a file,
// no recursive read of a workspace holding a hidden path, no argument
// naming a hidden path.
//
// Commands run only on Linux: elsewhere Run and SandboxAvailable return
// the *Refusal of Supported.
package yolo
