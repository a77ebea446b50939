// crash_test.go: real processes. The test binary re-executes itself as a
// child (TestMain reads JOURNAL_CHILD): "crash" appends intents from
// several goroutines and prints each returned seq, and is SIGKILLed at
// random moments; "fsize" appends under RLIMIT_FSIZE until the kernel
// refuses the write (a real EFBIG, as a full disk); "lock" tries to open a
// journal another process holds.

package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
)

func TestMain(m *testing.M) {
	switch os.Getenv("JOURNAL_CHILD") {
	case "":
		os.Exit(m.Run())
	case "crash":
		os.Exit(crashChild(os.Getenv("JOURNAL_PATH")))
	case "fsize":
		os.Exit(fsizeChild(os.Getenv("JOURNAL_PATH")))
	case "urgent":
		os.Exit(urgentChild(os.Getenv("JOURNAL_PATH")))
	case "lock":
		_, err := Open(os.Getenv("JOURNAL_PATH"), Options{Timeout: 100 * time.Millisecond})
		fmt.Printf("locked=%v %v\n", errors.Is(err, ErrLocked), err)
		os.Exit(0)
	}
	os.Exit(3)
}

func crashChild(path string) int {
	j, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var mu sync.Mutex
	pid := os.Getpid()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("c%d-%d-%d", pid, g, i)
				seq, err := j.Append(context.Background(), NewIntent(enter("A1", id, market.Buy, 1, 20600, int64(i)), &Decision{Allowed: true}))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				mu.Lock()
				os.Stdout.WriteString(fmt.Sprintf("%d %s\n", seq, id)) // one write: a line is whole or absent
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return 1
}

func fsizeChild(path string) int {
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG from write instead of being killed
	j, err := Open(path, Options{})
	if err != nil {
		fmt.Println("OPEN", err)
		return 2
	}
	fi, _ := os.Stat(path)
	lim := uint64(fi.Size()) + 64<<10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: lim, Max: lim}); err != nil {
		fmt.Println("RLIMIT", err)
		return 2
	}
	body := []byte(`"` + strings.Repeat("x", 2000) + `"`)
	var last uint64
	for i := 0; i < 100000; i++ {
		seq, err := j.Append(context.Background(), Record{Kind: KindMarker, Body: body})
		if err != nil {
			fmt.Printf("LAST %d\nERR %v %v\n", last, errors.Is(err, ErrAppendFailed), err)
			_, err2 := j.Append(context.Background(), Record{Kind: KindMarker})
			fmt.Printf("AGAIN %v\n", errors.Is(err2, ErrAppendFailed))
			j.Close()
			return 0
		}
		last = seq
	}
	fmt.Println("NEVER FAILED")
	return 1
}

func child(t *testing.T, mode, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "JOURNAL_CHILD="+mode, "JOURNAL_PATH="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestCrashKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.journal")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	acked := map[uint64]string{}
	start := time.Now()
	kills := 0
	for ; kills < 20 || (kills < 30 && time.Since(start) < 10*time.Second); kills++ {
		cmd := child(t, "crash", path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(out)
		killAfter := rng.IntN(150) // lines; 0 = while it is still opening
		read := func() bool {
			line, err := rd.ReadString('\n')
			if err != nil {
				return false // EOF, or a partial last line: not acknowledged
			}
			f := strings.Fields(line)
			seq, perr := strconv.ParseUint(f[0], 10, 64)
			if len(f) != 2 || perr != nil {
				t.Fatalf("child printed %q", line)
			}
			if prev, ok := acked[seq]; ok && prev != f[1] {
				t.Fatalf("seq %d acknowledged twice: %s and %s", seq, prev, f[1])
			}
			acked[seq] = f[1]
			return true
		}
		for n := 0; n < killAfter && read(); n++ {
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for read() { // lines written before the kill, still in the pipe
		}
		_ = cmd.Wait()

		j, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", kills, err)
		}
		got := map[uint64]string{}
		if err := j.Iterate(1, func(r Record) error { got[r.Seq] = r.ClientID; return nil }); err != nil {
			t.Fatalf("kill %d: %v", kills, err)
		}
		j.Close()
		for seq, id := range acked {
			if got[seq] != id {
				t.Fatalf("kill %d: acknowledged seq %d (%s) is %q after the crash", kills, seq, id, got[seq])
			}
		}
		rep, err := Verify(path, VerifyOptions{})
		if err != nil || !rep.OK {
			t.Fatalf("kill %d: verify %+v %v", kills, rep, err)
		}
	}
	t.Logf("%d SIGKILLs in %v; %d acknowledged appends all present", kills, time.Since(start).Round(time.Millisecond), len(acked))
}

func TestDiskFullInChildProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full.journal")
	j, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j, NewRearm(0, "a", "b"))
	j.Close()
	out, err := child(t, "fsize", path).Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "ERR true") || !strings.Contains(s, "AGAIN true") {
		t.Fatalf("child output:\n%s", s)
	}
	if !strings.Contains(s, "file too large") {
		t.Logf("the failure was not EFBIG: %s", s)
	}
	var last uint64
	fmt.Sscanf(s, "LAST %d", &last)
	rep, err := Verify(path, VerifyOptions{})
	if err != nil || !rep.OK || rep.Last != last {
		t.Fatalf("after the failed append: %+v %v (child's last seq %d)\n%s", rep, err, last, s)
	}
	t.Logf("child: %s", strings.ReplaceAll(strings.TrimSpace(s), "\n", " | "))
}

func TestLockedAcrossProcesses(t *testing.T) {
	j, path := openTemp(t, Options{})
	mustAppend(t, j, NewRearm(0, "a", "b"))
	t0 := time.Now()
	out, err := child(t, "lock", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "locked=true") || !strings.Contains(string(out), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("child: %s", out)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("second process took %v to give up", d)
	}
}
