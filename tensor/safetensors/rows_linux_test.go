package safetensors

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// presentPages counts the pages of b that are mapped into this process
// (/proc/self/pagemap bit 63), which is what the resident set counts.
func presentPages(t *testing.T, b []byte) int {
	t.Helper()
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("no pagemap: %v", err)
	}
	defer pm.Close()
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first, last := (start+page-1)/page, (start+uintptr(len(b)))/page // whole pages only
	if last <= first {
		return 0
	}
	ents := make([]byte, 8*(last-first))
	if _, err := pm.ReadAt(ents, int64(first*8)); err != nil {
		t.Skipf("pagemap: %v", err)
	}
	n := 0
	for i := 0; i < len(ents); i += 8 {
		if binary.LittleEndian.Uint64(ents[i:])>>63 != 0 {
			n++
		}
	}
	return n
}

// ReadRows leaves the mapping alone: no page of a table becomes resident,
// where reading the same rows through the mapping maps some (and, with
// large folios in the page cache, far more than the rows).
func TestRowReaderKeepsTableOutOfRSS(t *testing.T) {
	const rows, cols = 2048, 768 // 6 MiB, after a 4 MiB pad that holds the header's pages
	pad, _ := FromFloat32s("a.pad", F32, []int64{1 << 20}, make([]float32, 1<<20))
	vals := make([]float32, rows*cols)
	for i := range vals {
		vals[i] = float32(i)
	}
	table, _ := FromFloat32s("b.table", F32, []int64{rows, cols}, vals)
	path := filepath.Join(t.TempDir(), "big.safetensors")
	if err := WriteFile(path, []Tensor{pad, table}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.fd == nil {
		t.Skip("not memory-mapped")
	}
	b, _ := f.Bytes("b.table")
	r, err := f.RowReader("b.table")
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{5, 100, 700, 1500, 2047, 3}
	got := make([]float32, len(ids)*cols)
	if err := r.ReadRows(got, ids); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if got[i*cols] != float32(id*cols) || got[(i+1)*cols-1] != float32((id+1)*cols-1) {
			t.Fatalf("row %d: %v … %v", id, got[i*cols], got[(i+1)*cols-1])
		}
	}
	if n := presentPages(t, b); n != 0 {
		t.Errorf("%d pages of the table resident after ReadRows, want 0", n)
	}
	// the control: the same rows through the mapping (MADV_RANDOM too)
	f.AccessRandom("b.table")
	view, _ := f.Float32s("b.table")
	var sum float32
	for _, id := range ids {
		sum += view[id*cols]
	}
	n := presentPages(t, b)
	t.Logf("through the mapping: %d pages (%d KiB) resident for %d rows of %d KiB (sum %g)", n, n*os.Getpagesize()>>10, len(ids), cols*4>>10, sum)
	if n == 0 {
		t.Errorf("reading through the mapping left no page resident: the test cannot see residency")
	}
}
