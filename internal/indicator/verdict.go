package indicator

// Level is how bad an indicator looks, ordered from least to most severe.
type Level int

// The verdict levels.
const (
	Unknown Level = iota
	Benign
	Suspicious
	Malicious
)

var levelNames = [...]string{"UNKNOWN", "BENIGN", "SUSPICIOUS", "MALICIOUS"}

// String returns the level's contract name, e.g. "MALICIOUS".
func (l Level) String() string {
	if l < Unknown || l > Malicious {
		return "UNKNOWN"
	}
	return levelNames[l]
}

// Verdict is one assessment: a level, a 0–100 score and one-line reasons.
type Verdict struct {
	Level   Level
	Score   int
	Reasons []string
}
