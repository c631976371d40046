package mem_test

import (
	"testing"

	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return mem.New(mem.Options{}) })
}

func TestConformanceWithCapacity(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return mem.New(mem.Options{Capacity: 1 << 20}) })
}
