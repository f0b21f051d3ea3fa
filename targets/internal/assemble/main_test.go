package assemble

import (
	"os"
	"testing"

	"github.com/rs/zerolog"

	"predictlab/targets/internal/featurestore"
)

func TestMain(m *testing.M) {
	featurestore.SetClientLogger(zerolog.Nop()) // dial failures are expected in the store-down tests
	os.Exit(m.Run())
}
