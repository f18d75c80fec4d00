package indicator

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Punycode (RFC 3492) with the parameters IDNA uses (RFC 3492 §5). Only the
// bootstring algorithm lives here; the IDNA rules around it (which labels are
// converted, what a label may contain) are in domain.go.

const (
	punyBase        = 36
	punyTMin        = 1
	punyTMax        = 26
	punySkew        = 38
	punyDamp        = 700
	punyInitialBias = 72
	punyInitialN    = 128
	// punyMaxInt bounds every intermediate value, as RFC 3492 §6.4 asks,
	// so that no input can overflow an int on any platform.
	punyMaxInt = 1<<31 - 1
)

var (
	errPunyOverflow = errors.New("punycode overflow")
	errPunyBadInput = errors.New("bad punycode input")
)

// punyAdapt is the bias adaptation function of RFC 3492 §6.1.
func punyAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= punyDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((punyBase-punyTMin)*punyTMax)/2 {
		delta /= punyBase - punyTMin
		k += punyBase
	}
	return k + (punyBase-punyTMin+1)*delta/(delta+punySkew)
}

// punyThreshold is t(k) of RFC 3492 §6.2: k - bias clamped to [tmin, tmax].
func punyThreshold(k, bias int) int {
	switch t := k - bias; {
	case t < punyTMin:
		return punyTMin
	case t > punyTMax:
		return punyTMax
	default:
		return t
	}
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// punyDigitValue returns the value of a base-36 digit, accepting either case,
// or -1.
func punyDigitValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c-'0') + 26
	case 'a' <= c && c <= 'z':
		return int(c - 'a')
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	}
	return -1
}

// punyEncode encodes s as punycode (RFC 3492 §6.3), without the "xn--"
// prefix. Digits are lower-case. s must be valid UTF-8.
func punyEncode(s string) (string, error) {
	runes := []rune(s)
	var out strings.Builder
	for _, r := range runes {
		if r < 0x80 {
			out.WriteByte(byte(r))
		}
	}
	b := out.Len()
	h := b
	if b > 0 {
		out.WriteByte('-')
	}
	n, delta, bias := punyInitialN, 0, punyInitialBias
	for h < len(runes) {
		// The smallest code point not yet handled.
		m := punyMaxInt
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if m-n > (punyMaxInt-delta)/(h+1) {
			return "", errPunyOverflow
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
				if delta > punyMaxInt {
					return "", errPunyOverflow
				}
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := punyBase; ; k += punyBase {
				t := punyThreshold(k, bias)
				if q < t {
					break
				}
				out.WriteByte(punyDigit(t + (q-t)%(punyBase-t)))
				q = (q - t) / (punyBase - t)
			}
			out.WriteByte(punyDigit(q))
			bias = punyAdapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return out.String(), nil
}

// punyDecode decodes punycode (RFC 3492 §6.2), given without the "xn--"
// prefix. It fails on any input the encoder could not have produced the
// pieces of: non-ASCII or non-digit bytes, truncated numbers, overflow,
// basic or out-of-range code points, and surrogates. The caller still checks
// that re-encoding the result gives back the input, which rules out the
// remaining non-canonical spellings.
func punyDecode(s string) (string, error) {
	var output []rune
	pos := 0
	if d := strings.LastIndexByte(s, '-'); d >= 0 {
		for i := 0; i < d; i++ {
			if s[i] >= 0x80 {
				return "", errPunyBadInput
			}
			output = append(output, rune(s[i]))
		}
		pos = d + 1
	}
	n, i, bias := punyInitialN, 0, punyInitialBias
	for pos < len(s) {
		oldi, w := i, 1
		for k := punyBase; ; k += punyBase {
			if pos >= len(s) {
				return "", errPunyBadInput
			}
			digit := punyDigitValue(s[pos])
			pos++
			if digit < 0 {
				return "", errPunyBadInput
			}
			if digit > (punyMaxInt-i)/w {
				return "", errPunyOverflow
			}
			i += digit * w
			t := punyThreshold(k, bias)
			if digit < t {
				break
			}
			if w > punyMaxInt/(punyBase-t) {
				return "", errPunyOverflow
			}
			w *= punyBase - t
		}
		count := len(output) + 1
		bias = punyAdapt(i-oldi, count, oldi == 0)
		if i/count > punyMaxInt-n {
			return "", errPunyOverflow
		}
		n += i / count
		i %= count
		if n < 0x80 || n > utf8.MaxRune || (0xD800 <= n && n <= 0xDFFF) {
			return "", errPunyBadInput
		}
		output = append(output, 0)
		copy(output[i+1:], output[i:])
		output[i] = rune(n)
		i++
	}
	return string(output), nil
}
