package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkWaitingAgents is the load the bridge tells agents to create: N
// agents, one stdio process each, on one SQLite file, in N/2 pairs; every
// receiver blocks in check_messages with wait_seconds while its partner
// sends. Each iteration is one message from every sender, so a run sends
// pairs x b.N messages. It reports messages per second, send latency
// (p50, p99) and the CPU the N processes spent per message. The idle
// variant is the same N with nobody waiting (receivers drain afterwards):
// compare the two to see what waiting costs.
//
//	go test -run '^$' -bench WaitingAgents -benchtime 20x ./cmd/agent-bridge
func BenchmarkWaitingAgents(b *testing.B) {
	for _, n := range []int{2, 10, 50, 100} {
		for _, waiting := range []bool{true, false} {
			name := fmt.Sprintf("agents=%d/waiting", n)
			if !waiting {
				name = fmt.Sprintf("agents=%d/idle", n)
			}
			b.Run(name, func(b *testing.B) { benchAgents(b, n, waiting) })
		}
	}
}

func benchAgents(b *testing.B, n int, waiting bool) {
	home := b.TempDir()
	db := filepath.Join(home, "bridge.db")
	procs := make([]*proc, n)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); procs[i] = launch(b, home, home, nil, "serve", "--db", db) }()
	}
	wg.Wait()
	pairs := n / 2
	senders, receivers := make([]session, pairs), make([]session, pairs)
	for k := 0; k < pairs; k++ {
		senders[k], receivers[k] = create(procs[2*k])
	}

	var delivered atomic.Int64
	var errs atomic.Int64
	want := int64(pairs * b.N)
	// A receiver takes its partner's b.N messages; while waiting, with
	// wait_seconds.
	receive := func(k int) {
		p, s := procs[2*k+1], receivers[k]
		for got := 0; got < b.N; {
			args := s.args(nil)
			if waiting {
				args["wait_seconds"] = 30
			}
			res, err := p.call("check_messages", args)
			if err != nil || res.IsError {
				if errs.Add(1) <= 3 {
					b.Logf("check_messages: %v %v", err, res)
				}
				continue
			}
			var out struct{ Messages []any }
			json.Unmarshal(res.RawStructuredContent, &out)
			if len(out.Messages) == 0 && res.RawStructuredContent == nil {
				raw, _ := json.Marshal(res.StructuredContent)
				json.Unmarshal(raw, &out)
			}
			got += len(out.Messages)
			delivered.Add(int64(len(out.Messages)))
		}
	}

	cpu0 := cpuOf(procs)
	b.ResetTimer()
	start := time.Now()
	var rwg sync.WaitGroup
	if waiting {
		for k := 0; k < pairs; k++ {
			rwg.Add(1)
			go func() { defer rwg.Done(); receive(k) }()
		}
	}
	lat := make([][]time.Duration, pairs)
	var swg sync.WaitGroup
	for k := 0; k < pairs; k++ {
		swg.Add(1)
		go func() {
			defer swg.Done()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := procs[2*k].call("send_to_partner", senders[k].args(map[string]any{"message": "m" + strconv.Itoa(i)}))
				if err != nil || res.IsError {
					if errs.Add(1) <= 3 {
						b.Logf("send_to_partner: %v %v", err, res)
					}
					continue
				}
				lat[k] = append(lat[k], time.Since(t0))
			}
		}()
	}
	swg.Wait()
	if !waiting { // nobody waited: the receivers drain now
		for k := 0; k < pairs; k++ {
			rwg.Add(1)
			go func() { defer rwg.Done(); receive(k) }()
		}
	}
	rwg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuOf(procs) - cpu0

	if got := delivered.Load(); got != want {
		b.Fatalf("%d messages delivered of %d sent", got, want)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(want)/elapsed.Seconds(), "msg/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "send-p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "send-p99-ms")
	}
	if cpu >= 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(want), "cpu-ms/msg")
	}
	b.ReportMetric(float64(errs.Load()), "errors")
}

// cpuOf is the user and system CPU time the processes have used, from
// /proc; -1 where there is no /proc.
func cpuOf(procs []*proc) time.Duration {
	if runtime.GOOS != "linux" {
		return -1
	}
	var total time.Duration
	for _, p := range procs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
		if err != nil {
			return -1
		}
		// Fields after the command name, which ends at the last ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * time.Second / 100 // USER_HZ
	}
	return total
}

// BenchmarkStatusAgents is the status-heavy load: N agents, one stdio
// process each, on one SQLite file, in N/2 pairs, every agent asking
// check_partner_status as fast as it can. Each iteration is one call from
// every agent. It reports calls per second, latency (p50, p99) and the CPU
// the N processes spent per call; check_partner_status changes nothing,
// so it should not queue behind other processes' writes.
//
//	go test -run '^$' -bench StatusAgents -benchtime 50x ./cmd/agent-bridge
func BenchmarkStatusAgents(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) { benchStatus(b, n) })
	}
}

func benchStatus(b *testing.B, n int) {
	home := b.TempDir()
	db := filepath.Join(home, "bridge.db")
	procs := make([]*proc, n)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); procs[i] = launch(b, home, home, nil, "serve", "--db", db) }()
	}
	wg.Wait()
	who := make([]session, n)
	for k := 0; k < n/2; k++ {
		who[2*k], who[2*k+1] = create(procs[2*k])
	}
	var errs atomic.Int64
	lat := make([][]time.Duration, n)
	cpu0 := cpuOf(procs)
	b.ResetTimer()
	start := time.Now()
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < b.N; j++ {
				t0 := time.Now()
				res, err := procs[i].call("check_partner_status", who[i].args(nil))
				if err != nil || res.IsError {
					if errs.Add(1) <= 3 {
						b.Logf("check_partner_status: %v %v", err, res)
					}
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuOf(procs) - cpu0
	calls := float64(n * b.N)
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(calls/elapsed.Seconds(), "calls/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
	if cpu >= 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/calls, "cpu-ms/call")
	}
	b.ReportMetric(float64(errs.Load()), "errors")
}
