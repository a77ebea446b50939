package main

// journalpath.go: what `run` checks of its journal path before the journal
// opens it (issue 25 item 8). The journal itself refuses what is not a
// deskguard journal (another application's bbolt file, an empty file,
// damage); here, a path that is a symbolic link is refused unless the
// config says to follow it ([desk] journal_follow_symlink, or
// --journal-follow-symlink), so a link planted at the journal's path
// cannot send the desk's records into a file it points at.

import (
	"fmt"
	"io/fs"
	"os"
)

func checkJournalPath(path string, follow bool) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 || follow {
		return nil // missing (a new journal) or not a link: journal.Open decides
	}
	target, _ := os.Readlink(path)
	return fmt.Errorf("journal %s is a symbolic link (to %s): refused unless [desk] journal_follow_symlink = true or --journal-follow-symlink", path, target)
}
