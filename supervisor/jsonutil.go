package supervisor

// jsonutil.go: JSON for frames and the engines' config.

import "encoding/json"

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
