package artifact

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
)

// fixtureDigests pins the manifest digest of every fixture. Pack must keep
// producing them: a changed digest would silently break every
// configuration that pins one, so changing the format is a visible act.
var fixtureDigests = map[string]string{
	modelfixtures.ValidV1:         "sha256:5091e56fb855981ee4a3455a13225801ca016d78b01a53ba83f399fa0e4f7a1d",
	modelfixtures.ValidV2:         "sha256:65daaa4f13b5701cb3a0e6efd7cde6c5c8841464c76bdd8ba6a5ab804b935ce2",
	modelfixtures.ValidV3:         "sha256:88432126c777d547654cc190fda0d5f9123a891c38699ed96a34808c5dfe708d",
	modelfixtures.MalformedConfig: "sha256:8e16bbf8544b5f60034b22ada7a78db281b106bd04f9cde8994ccd88812031ba",
	modelfixtures.Unsigned:        "sha256:b17f7db6fb3851eb7b30380a498c82b16ad3956c121454873bcce3accd29c951",
	modelfixtures.WronglySigned:   "sha256:7e56e348a8d6a57871596e9ff3b4f787179a0319f27842416f481c32ea7e808d",
}

func TestPackIsDeterministic(t *testing.T) {
	for name, want := range fixtureDigests {
		t.Run(name, func(t *testing.T) {
			p, err := Pack(fixtureDir(name))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Digest(); got != want {
				t.Errorf("Pack(%s).Digest() = %s, want %s", name, got, want)
			}
			_, signed := p.ManifestDesc.Annotations[AnnotationSignature]
			if _, err := os.Stat(filepath.Join(fixtureDir(name), SigningKeyFile)); (err == nil) != signed {
				t.Errorf("signature annotation present = %v, but signing key present = %v", signed, err == nil)
			}
		})
	}
	if fixtureDigests[modelfixtures.ValidV1] == fixtureDigests[modelfixtures.ValidV2] {
		t.Error("valid-v1 and valid-v2 must differ")
	}
}

func TestPackRefusesIncompleteDir(t *testing.T) {
	write := func(dir, name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"no config", map[string]string{WeightsFile: "w"}},
		{"no weights", map[string]string{ConfigFile: "{}"}},
		{"bad signing key", map[string]string{ConfigFile: "{}", WeightsFile: "w", SigningKeyFile: "not a key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, d := range tt.files {
				write(dir, n, d)
			}
			if _, err := Pack(dir); !errors.Is(err, ErrPack) {
				t.Errorf("Pack = %v, want ErrPack", err)
			}
		})
	}
}
