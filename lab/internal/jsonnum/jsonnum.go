// Package jsonnum provides a float64 that survives JSON: NaN and ±Inf are
// written as null and read back as NaN.
package jsonnum

import (
	"bytes"
	"math"
	"strconv"
)

// Float is a float64 whose missing values (NaN, ±Inf) encode as null.
type Float float64

// NaN is the missing value.
func NaN() Float { return Float(math.NaN()) }

// Valid reports whether f is a finite number.
func (f Float) Valid() bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// MarshalJSON writes f, or null when it is not finite.
func (f Float) MarshalJSON() ([]byte, error) {
	if !f.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, or null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*f = NaN()
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*f = Float(v)
	return nil
}
