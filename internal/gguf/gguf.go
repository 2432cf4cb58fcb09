// Package gguf writes GGUF version 3 files, the model format of llama.cpp and Ollama: a header,
// typed metadata, tensor descriptions, then the tensors' data, each aligned. It writes only what
// the project needs (metadata of every scalar type, string and scalar arrays, F32 tensors), so a
// tiny model can be generated here rather than downloaded: no weights can be fetched on the
// machines this project is certified on.
package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// Version is the GGUF version this package writes.
const Version = 3

// Alignment is where each tensor's data starts (general.alignment, whose default is 32).
const Alignment = 32

// ValueType is the type tag GGUF writes before a metadata value.
type ValueType uint32

// The metadata value types of the GGUF specification.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

// TensorF32 is ggml's type id for 32-bit float tensors.
const TensorF32 uint32 = 0

// KV is one metadata entry. Value is one of uint8, int8, uint16, int16, uint32, int32, float32,
// bool, string, uint64, int64, float64, or a slice of one of them ([]string, []float32, []int32…).
type KV struct {
	Key   string
	Value any
}

// Tensor is one F32 tensor. Dims are in ggml order: the first is the innermost (contiguous)
// dimension, so a matrix mapping n inputs to m outputs is {n, m}.
type Tensor struct {
	Name string
	Dims []uint64
	Data []float32
}

// File is everything a GGUF file holds, in the order it is written: entries and tensors keep
// the caller's order, so the same File always gives the same bytes.
type File struct {
	KV      []KV
	Tensors []Tensor
}

// Write writes f as GGUF v3.
func (f *File) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	e := &encoder{w: bw}
	e.raw([]byte(Magic))
	e.u32(Version)
	e.u64(uint64(len(f.Tensors)))
	e.u64(uint64(len(f.KV)))
	for _, kv := range f.KV {
		e.str(kv.Key)
		if err := e.value(kv.Value, true); err != nil {
			return fmt.Errorf("gguf: metadata %s: %w", kv.Key, err)
		}
	}
	var offset uint64
	for _, t := range f.Tensors {
		n := uint64(1)
		for _, d := range t.Dims {
			n *= d
		}
		if n != uint64(len(t.Data)) {
			return fmt.Errorf("gguf: tensor %s: dims %v hold %d values, data has %d", t.Name, t.Dims, n, len(t.Data))
		}
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.u64(d)
		}
		e.u32(TensorF32)
		e.u64(offset)
		offset = align(offset + 4*n)
	}
	e.pad()
	for _, t := range f.Tensors {
		for _, v := range t.Data {
			e.u32(math.Float32bits(v))
		}
		e.pad()
	}
	if e.err != nil {
		return fmt.Errorf("gguf: %w", e.err)
	}
	return bw.Flush()
}

func align(n uint64) uint64 { return (n + Alignment - 1) / Alignment * Alignment }

// encoder writes little-endian values and remembers the first error, so Write checks once.
type encoder struct {
	w   io.Writer
	n   uint64
	err error
}

func (e *encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	var k int
	k, e.err = e.w.Write(b)
	e.n += uint64(k)
}

func (e *encoder) u32(v uint32) { e.raw(binary.LittleEndian.AppendUint32(nil, v)) }
func (e *encoder) u64(v uint64) { e.raw(binary.LittleEndian.AppendUint64(nil, v)) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.raw([]byte(s)) }

// pad writes zeros up to the next Alignment boundary of the file.
func (e *encoder) pad() { e.raw(make([]byte, align(e.n)-e.n)) }

// value writes a metadata value, preceded by its type tag when tagged (array elements are not).
func (e *encoder) value(v any, tagged bool) error {
	tag := func(t ValueType) {
		if tagged {
			e.u32(uint32(t))
		}
	}
	switch x := v.(type) {
	case uint8:
		tag(TypeUint8)
		e.raw([]byte{x})
	case int8:
		tag(TypeInt8)
		e.raw([]byte{byte(x)})
	case uint16:
		tag(TypeUint16)
		e.raw(binary.LittleEndian.AppendUint16(nil, x))
	case int16:
		tag(TypeInt16)
		e.raw(binary.LittleEndian.AppendUint16(nil, uint16(x)))
	case uint32:
		tag(TypeUint32)
		e.u32(x)
	case int32:
		tag(TypeInt32)
		e.u32(uint32(x))
	case float32:
		tag(TypeFloat32)
		e.u32(math.Float32bits(x))
	case bool:
		tag(TypeBool)
		b := byte(0)
		if x {
			b = 1
		}
		e.raw([]byte{b})
	case string:
		tag(TypeString)
		e.str(x)
	case uint64:
		tag(TypeUint64)
		e.u64(x)
	case int64:
		tag(TypeInt64)
		e.u64(uint64(x))
	case float64:
		tag(TypeFloat64)
		e.u64(math.Float64bits(x))
	case []string:
		return array(e, tagged, TypeString, x)
	case []float32:
		return array(e, tagged, TypeFloat32, x)
	case []int32:
		return array(e, tagged, TypeInt32, x)
	case []uint32:
		return array(e, tagged, TypeUint32, x)
	default:
		return fmt.Errorf("unsupported value type %T", v)
	}
	return nil
}

// array writes a typed array; nested arrays are not needed and not supported.
func array[T any](e *encoder, tagged bool, elem ValueType, xs []T) error {
	if tagged {
		e.u32(uint32(TypeArray))
	}
	e.u32(uint32(elem))
	e.u64(uint64(len(xs)))
	for _, x := range xs {
		if err := e.value(x, false); err != nil {
			return err
		}
	}
	return nil
}
