package main

// tokenfile.go: ./deskguard.token, the manager's demo token that a desk
// without configured tokens writes for the CLI. It is a live manager
// credential, so (issue 25 item 5):
//   - before the desk starts, an existing file at the path must be a
//     regular file of ours that only we can read (no group or other
//     permission bits); a symbolic link, anything else, a file of another
//     user or a readable one is refused and the desk does not start;
//   - it is written only once this desk holds its journal, its control
//     socket and its console, so that a second desk that fails at start
//     never replaces the running desk's token;
//   - it is written into a new temporary file in the same directory, opened
//     O_CREAT|O_EXCL|O_NOFOLLOW with mode 0600 (and fchmod 0600 whatever
//     the umask), synced, then renamed over the path: the rename replaces a
//     link itself, never its target, and a reader sees the old token or
//     the new one, never half of one;
//   - at exit the desk removes it if it still holds this desk's token.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/deskguard/deskguard/auth"
)

// errTokenFile is wrapped by every refusal of the token file.
var errTokenFile = errors.New("token file")

// checkTokenPath refuses an existing path that is not a regular file owned
// by uid with no group or other permission bits. A missing path is fine.
func checkTokenPath(path string, uid int) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errTokenFile, path, err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link: the manager token is never written through one (remove it)", errTokenFile, path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%w: %s is not a regular file (remove it)", errTokenFile, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
		return fmt.Errorf("%w: %s belongs to uid %d, not to this desk's uid %d (remove it)", errTokenFile, path, st.Uid, uid)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o: group or others may read the manager token (remove it, or chmod 600 it)", errTokenFile, path, perm)
	}
	return nil
}

// writeTokenFile writes token to path as described in the file comment.
func writeTokenFile(path, token string) error {
	if err := checkTokenPath(path, os.Geteuid()); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	var f *os.File
	var tmp string
	for range 16 {
		tmp = filepath.Join(dir, "."+filepath.Base(path)+"."+auth.NewToken()[:12]+".tmp")
		fd, err := syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
		if errors.Is(err, syscall.EEXIST) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: create %s: %w", errTokenFile, tmp, err)
		}
		f = os.NewFile(uintptr(fd), tmp)
		break
	}
	if f == nil {
		return fmt.Errorf("%w: no free temporary name beside %s", errTokenFile, path)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("%w: chmod %s: %w", errTokenFile, tmp, err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		return fmt.Errorf("%w: write %s: %w", errTokenFile, tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: sync %s: %w", errTokenFile, tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: close %s: %w", errTokenFile, tmp, err)
	}
	// Checked again just before the rename: what is at the path now is
	// what the rename replaces.
	if err := checkTokenPath(path, os.Geteuid()); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("%w: rename %s to %s: %w", errTokenFile, tmp, path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// removeTokenFile removes path if it still holds token (another desk
// started since in the same directory may have replaced it).
func removeTokenFile(path, token string) {
	if checkTokenPath(path, os.Geteuid()) != nil {
		return
	}
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) == token {
		_ = os.Remove(path)
	}
}
