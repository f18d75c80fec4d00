package graph

import (
	"strings"

	"github.com/inspector-gadget/gadget/graph/model"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
)

// extractError turns Extract's only error, text over 1 MiB, into BAD_REQUEST
// on the text argument.
func extractError(err error) error {
	return &errcode.Error{Code: errcode.BadRequest, Field: "text", Message: err.Error(), Err: err}
}

// extraction is the GraphQL form of an indicator.Extraction.
func extraction(ex indicator.Extraction) *model.Extraction {
	out := &model.Extraction{
		Indicators:     make([]*model.ExtractedIndicator, len(ex.Indicators)),
		Internal:       make([]*model.InternalValue, len(ex.Internal)),
		Ignored:        make([]*model.IgnoredToken, len(ex.Ignored)),
		IgnoredOmitted: int64(ex.IgnoredOmitted),
	}
	for i, f := range ex.Indicators {
		spans := make([]*model.TextSpan, len(f.Spans))
		for k, sp := range f.Spans {
			spans[k] = &model.TextSpan{Start: int64(sp.Start), End: int64(sp.End)}
		}
		out.Indicators[i] = &model.ExtractedIndicator{Value: f.Value, Kind: kindEnum(f.Kind), Raw: f.Raw,
			Spans: spans, Count: int64(f.Count), Context: nonNilStrings(f.Context)}
	}
	for i, w := range ex.Internal {
		out.Internal[i] = &model.InternalValue{Value: w.Value, Kind: kindEnum(w.Kind), Reason: w.Reason}
	}
	for i, ig := range ex.Ignored {
		out.Ignored[i] = &model.IgnoredToken{Text: ig.Text, Reason: ig.Reason}
	}
	return out
}

func kindEnum(k indicator.Kind) model.IndicatorKind {
	return model.IndicatorKind(strings.ToUpper(string(k)))
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
