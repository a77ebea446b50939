// lockinfo.go: who holds a journal's flock, from /proc/locks (Linux), for
// the ErrLocked message. Best effort: empty when unknown.

package journal

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
)

func lockHolder(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return ""
	}
	defer f.Close()
	suffix := fmt.Sprintf(":%d", st.Ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 12345 fd:01:123456 0 EOF"
		fs := strings.Fields(sc.Text())
		if len(fs) >= 6 && fs[1] == "FLOCK" && strings.HasSuffix(fs[5], suffix) {
			mode := "exclusive"
			if fs[3] == "READ" {
				mode = "shared"
			}
			return fmt.Sprintf(" (held %s by pid %s)", mode, fs[4])
		}
	}
	return ""
}
