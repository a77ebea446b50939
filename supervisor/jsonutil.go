package supervisor

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
