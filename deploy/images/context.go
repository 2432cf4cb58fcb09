package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// contextTar makes a build context holding the Dockerfile, the binary and rootfs/ (empty /tmp
// and /data for the image's user): everything an image FROM scratch needs, nothing from the
// working tree, so an unrelated file can never change or bloat an image.
func contextTar(dockerfile []byte, binary string, data []byte) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []string{"rootfs/", "rootfs/tmp/", "rootfs/data/"}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755}); err != nil {
			return nil, fmt.Errorf("images: build context: %w", err)
		}
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, dockerfile}, {binary, 0o755, data}}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return nil, fmt.Errorf("images: build context: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("images: build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("images: build context: %w", err)
	}
	return &buf, nil
}

// buildMessage is one line of the engine's build stream.
type buildMessage struct {
	Stream      string `json:"stream"`
	Error       string `json:"error"`
	ErrorDetail struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// readBuild reads the build stream to its end, since the build finishes only then, prints each
// build step to log as it starts (a build is otherwise silent for minutes), and returns the
// builder's error with the last lines of its output.
func readBuild(r io.Reader, log io.Writer, tag string) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m buildMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the build output: %w", err)
		}
		if s := strings.TrimSpace(m.Stream); s != "" {
			if strings.HasPrefix(s, "Step ") {
				fmt.Fprintf(log, "images: %s: %s\n", tag, s)
			}
			tail = append(tail, s)
			if len(tail) > buildTailLines {
				tail = tail[1:]
			}
		}
		if m.Error != "" {
			return fmt.Errorf("%s (after: %s)", m.Error, strings.Join(tail, " | "))
		}
	}
}

// buildTailLines is how many lines of build output a failure quotes.
const buildTailLines = 5
