package main

import "testing"

func TestGCPercent(t *testing.T) {
	tests := []struct {
		name   string
		gogc   string
		want   int
		wantOK bool
	}{
		{name: "default", gogc: "", want: defaultGCPercent, wantOK: true},
		{name: "GOGC set", gogc: "100", wantOK: false},
		{name: "GOGC off", gogc: "off", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "GOGC" {
					return tt.gogc
				}
				return ""
			}
			got, ok := gcPercent(getenv)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("gcPercent = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
