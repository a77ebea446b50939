package console

// export_test.go: hooks into the status stream for the external tests.

import (
	"context"
	"time"
)

// SetTicker replaces the snapshot loop's ticker.
func SetTicker(cfg *Config, f func(time.Duration) (<-chan time.Time, func())) { cfg.ticker = f }

// SetStreamHooks is called when a stream client is added or removed.
func SetStreamHooks(s *Server, onAdd, onRemove func()) {
	s.hub.mu.Lock()
	s.hub.onAdd, s.hub.onRemove = onAdd, onRemove
	s.hub.mu.Unlock()
}

// StreamDrops is how many queued snapshots were dropped for slow clients.
func StreamDrops(s *Server) int64 { return s.hub.drops.Load() }

// SnapshotCalls is how many times the snapshot loop called desk.Status.
func SnapshotCalls(s *Server) int64 { return s.hub.statusCalls.Load() }

// StreamClients is the number of connected stream clients.
func StreamClients(s *Server) int { return s.hub.clientCount() }

// Refresh makes the snapshot loop take a fresh status now and waits for it.
func Refresh(s *Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.hub.refresh(ctx)
}
