package datagen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Shape is what an object looks like.
type Shape uint8

const (
	Circle Shape = iota
	Square
	Triangle
)

// Shapes lists every shape, in vocabulary order.
var Shapes = []Shape{Circle, Square, Triangle}

func (s Shape) String() string {
	switch s {
	case Circle:
		return "circle"
	case Square:
		return "square"
	case Triangle:
		return "triangle"
	}
	return fmt.Sprintf("Shape(%d)", s)
}

// Colour is a named colour and the RGB value it is painted with.
type Colour struct {
	Name    string
	R, G, B uint8
}

// BaseColours paint the base task. They are far apart in RGB so that a
// colour can be recovered from any fully covered pixel.
var BaseColours = []Colour{
	{"red", 215, 40, 40},
	{"green", 40, 165, 60},
	{"blue", 45, 75, 225},
	{"yellow", 240, 200, 20},
}

// Layout is how the objects of a scene are arranged.
type Layout uint8

const (
	Single Layout = iota // one object anywhere
	Row                  // side by side, left to right
	Column               // stacked, top to bottom
)

func (l Layout) String() string {
	return [...]string{"single", "row", "column"}[l]
}

// Object is one shape of a scene. CX, CY and Half are in units of the image
// side (0..1): the shape fills (circle, square) or is inscribed in
// (triangle, apex up) the box [CX-Half, CX+Half] × [CY-Half, CY+Half].
type Object struct {
	Shape  Shape   `json:"-"`
	Colour Colour  `json:"-"`
	Small  bool    `json:"small"`
	CX, CY float64 `json:"-"`
	Half   float64 `json:"-"`
}

// Phrase is the object's noun phrase: "a small red circle", "a blue square".
func (o Object) Phrase() string {
	if o.Small {
		return "a small " + o.Colour.Name + " " + o.Shape.String()
	}
	return "a " + o.Colour.Name + " " + o.Shape.String()
}

// Scene is one image: its objects in reading order (left to right for a
// row, top to bottom for a column) and a background grey level.
type Scene struct {
	Layout     Layout
	Objects    []Object
	Background uint8
}

// Variant names a caption convention. Base captions name objects in reading
// order: "a red circle above a small blue square", "a green triangle left
// of a yellow square". The "reversed" variant names them from the other end
// with the converse relation: "a small blue square below a red circle",
// "a yellow square right of a green triangle". Its words (below, right) are
// in the shared vocabulary but never appear in base captions, and every
// variant scene has two or three objects, so no variant caption is a base
// caption.
const (
	VariantBase     = "base"
	VariantReversed = "reversed"
)

// Variants lists the known variant names.
var Variants = []string{VariantBase, VariantReversed}

// Caption describes the scene under the variant's convention.
func (s Scene) Caption(variant string) string {
	objs := s.Objects
	var rel string
	switch {
	case s.Layout == Row && variant == VariantReversed:
		rel = " right of "
	case s.Layout == Row:
		rel = " left of "
	case s.Layout == Column && variant == VariantReversed:
		rel = " below "
	case s.Layout == Column:
		rel = " above "
	}
	parts := make([]string, len(objs))
	for i, o := range objs {
		if variant == VariantReversed {
			o = objs[len(objs)-1-i]
		}
		parts[i] = o.Phrase()
	}
	return strings.Join(parts, rel)
}

// Words are every word a caption of any variant can use, in the order
// vocab.txt lists them after the special tokens.
func Words() []string {
	w := []string{"a", "small"}
	for _, c := range BaseColours {
		w = append(w, c.Name)
	}
	for _, s := range Shapes {
		w = append(w, s.String())
	}
	return append(w, "above", "below", "left", "right", "of")
}

// SceneOptions control sampling.
type SceneOptions struct {
	MinObjects, MaxObjects int // 1..3
}

// Sample draws a random scene: the number of objects uniform in
// [MinObjects, MaxObjects], distinct colours, each object small or not and
// any shape; two or more objects are laid out in a row or a column with
// clear gaps along it and little offset across it, so that the relation
// ("left of", "above") follows from the picture without ambiguity.
func Sample(r *rand.Rand, o SceneOptions) Scene {
	lo, hi := max(o.MinObjects, 1), min(max(o.MaxObjects, 1), 3)
	if lo > hi {
		lo = hi
	}
	n := lo + r.IntN(hi-lo+1)
	// sizes are fixed per dataset (so that "small" means one thing), as
	// large as the densest scene allows: 40% larger when no scene holds three
	k := 1.0
	if hi < 3 {
		k = 1.4
	}
	s := Scene{Background: uint8(235 + r.IntN(21))}
	perm := r.Perm(len(BaseColours))
	objs := make([]Object, n)
	for i := range objs {
		objs[i] = Object{Shape: Shapes[r.IntN(len(Shapes))], Colour: BaseColours[perm[i]], Small: r.IntN(3) == 0}
		if objs[i].Small {
			objs[i].Half = k * (0.07 + 0.015*r.Float64())
		} else {
			objs[i].Half = k * (0.115 + 0.02*r.Float64())
		}
	}
	if n == 1 {
		s.Layout = Single
		m := 0.05 + objs[0].Half
		objs[0].CX = m + (1-2*m)*r.Float64()
		objs[0].CY = m + (1-2*m)*r.Float64()
		s.Objects = objs
		return s
	}
	s.Layout = Row
	if r.IntN(2) == 0 {
		s.Layout = Column
	}
	// n cells along the axis; each centre jitters within its cell, the
	// cross-axis position is shared up to a small offset.
	const margin = 0.02
	cell := (1 - 2*margin) / float64(n)
	across := 0.3 + 0.4*r.Float64()
	for i := range objs {
		along := margin + cell*(float64(i)+0.5) + (r.Float64()-0.5)*0.1*cell
		off := across + (r.Float64()-0.5)*0.1
		if s.Layout == Row {
			objs[i].CX, objs[i].CY = along, off
		} else {
			objs[i].CX, objs[i].CY = off, along
		}
	}
	s.Objects = objs
	return s
}
