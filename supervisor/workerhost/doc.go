// Package workerhost runs an account's strategy engines: as a `deskguard
// worker` child process (ProcHost on the supervisor's side, RunWorker in
// the child, frames from package wire on stdin/stdout), or in-process
// (RunnerHost) for replays. It knows nothing of the desk: it proposes
// intents and reports crashes on a channel the supervisor drains, and it
// never blocks its caller — Send drops a frame and kills a worker that
// cannot keep up, SetHalted takes no lock and no queue.
//
// It may touch intent, market (its Clock: heartbeats, backoff and the
// crash window run on it), strategies, supervisor/wire, and the child
// processes it starts (os/exec, syscall); never the journal, the broker or
// the limits.
package workerhost

import (
	"bytes"
	"encoding/json"
)

// unmarshalStrict decodes JSON refusing unknown fields: frames from a
// worker are untrusted input.
func unmarshalStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
