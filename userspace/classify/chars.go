package classify

// Byte classes the detectors share. Bytes of multi-byte UTF-8 characters count as word bytes,
// so a match never starts or ends inside a word written in another script.

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || isUpper(c) }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// isWord reports whether c continues a word: a letter, digit, underscore or non-ASCII byte.
func isWord(c byte) bool { return isAlnum(c) || c == '_' || c >= 0x80 }

// isNumberJoiner reports whether c can sit between two digits of one number or identifier
// (12.5, 2024-05-06, 10:30, 1,000, 1/2).
func isNumberJoiner(c byte) bool {
	return c == '.' || c == '-' || c == ',' || c == ':' || c == '/'
}

// numberStartOK reports whether a number may start at s[i]: it does not continue a word, a
// number or a joined identifier (v1.4111..., id-4111..., 12.4111...); a label before it
// (ssn:123-45-6789) is fine.
func numberStartOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := s[i-1]
	if isWord(c) || c == '+' {
		return false
	}
	if i < 2 {
		return true
	}
	switch pp := s[i-2]; {
	case isDigit(pp):
		return !isNumberJoiner(c) // 12.4111..., 2024-4111...
	case isWord(pp):
		return c != '.' && c != '-' && c != '/' // v1.4111..., id-4111..., /orders/4111...
	}
	return true
}

// numberEndOK reports whether a number may end before s[j]: it is not followed by a word
// byte, or by a joiner and a digit (a decimal part, a longer date, a range).
func numberEndOK(s string, j int) bool {
	if j >= len(s) {
		return true
	}
	c := s[j]
	if isWord(c) {
		return false
	}
	return !(isNumberJoiner(c) && j+1 < len(s) && isDigit(s[j+1]))
}

// digitsAt returns the number of digits starting at s[i].
func digitsAt(s string, i int) int {
	n := 0
	for i+n < len(s) && isDigit(s[i+n]) {
		n++
	}
	return n
}

// skipDigits returns the index after the digits starting at s[i].
func skipDigits(s string, i int) int {
	return i + digitsAt(s, i)
}
