package indicator

// ExtractSteps returns how many bytes Extract looked at in text, which
// TestExtractLinear compares across sizes.
func ExtractSteps(x Extractor, text string) int {
	e := newExtraction(x, text)
	e.scan(refangText(text), 0, nil)
	return e.steps
}
