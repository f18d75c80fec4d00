package main

import (
	"encoding/base64"
	"errors"
)

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func errorsAs(err error, target **usageError) bool { return errors.As(err, target) }
