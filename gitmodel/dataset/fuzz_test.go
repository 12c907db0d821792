package dataset

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: whatever the metadata, caption and COCO files hold, Load returns
// a dataset or an error, never panics, and every kept example is usable.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"file_name": "a.png", "text": "x"}`), []byte("caption"), []byte(`{"images": [], "annotations": []}`))
	f.Add([]byte("file_name,text\na.png,\"x\n"), []byte("\xff\xfe"), []byte(`{"images": [{"id": null, "file_name": 3}], "annotations": [{"image_id": {}}]}`))
	f.Add([]byte(`{"file_name": ["a.png"], "captions": [1, null]}`+"\n[]\n\"s\"\n"), []byte(""), []byte(`[]`))
	f.Add([]byte(`{"file_name": "a.png", "captions": ["", " "]}`), []byte("\n\n"), []byte(`{"images": [{"id": 1, "file_name": "a.png"}], "annotations": [{"image_id": 1, "caption": ""}]}`))
	png := pngBytes(4, 4)
	f.Fuzz(func(t *testing.T, meta, caption, coco []byte) {
		dir := t.TempDir()
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(os.WriteFile(filepath.Join(dir, "a.png"), png, 0o644))
		must(os.WriteFile(filepath.Join(dir, "a.txt"), caption, 0o644))
		must(os.WriteFile(filepath.Join(dir, "c.json"), coco, 0o644))
		check := func(ds *Dataset, err error) {
			if err != nil {
				return
			}
			for _, ex := range ds.Train {
				if len(ex.Captions) == 0 || ex.Captions[0] == "" {
					t.Fatalf("unusable example %+v", ex)
				}
			}
		}
		check(Load(dir, Options{}))                          // sidecar
		check(Load(filepath.Join(dir, "c.json"), Options{})) // COCO
		must(os.WriteFile(filepath.Join(dir, "metadata.jsonl"), meta, 0o644))
		check(Load(dir, Options{}))
		must(os.Remove(filepath.Join(dir, "metadata.jsonl")))
		must(os.WriteFile(filepath.Join(dir, "metadata.csv"), meta, 0o644))
		check(Load(dir, Options{Strict: true}))
	})
}
