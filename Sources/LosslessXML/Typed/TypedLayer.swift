// DomainXML's typed layer: how it fits together.
//
// * A view (`DiskDevice`, `CPUTune`, …) is a struct around an `ElementRef`: an element that
//   exists, or the child its parent would create on the first write. Views are cheap values;
//   the document (a class) is the only state, so any number of views see the same edits.
//
// * Each view declares what it models exactly once, in its `Keys` table:
//       Attr<V>("name")          an attribute           ChildText<V>("name")  a text-only child
//       Text<V>()                the element's text     Flag("name")          an empty marker child
//       MemoryValue.child(…)     an amount + `unit`     ChildAttr<V>(c, a)    an attribute of a child
//       Child<View>("name")      a nested view          Children<View>("name") a repeated nested view
//       RawChild("name")         opaque XML (metadata)
//   Dynamic member lookup turns keys into members (`disk.driver.cache` is a `Property<DiskCache>`),
//   and `ElementSpec` reflects over the same table for `validate()`, the `unmodeled` coverage
//   report, the read-write conformance pass and the insertion order of new elements
//   (declaration order = libvirt's format order). Adding a property is one line in `Keys`.
//
// * Reading decodes the current text with the key's `Codec` (strict, libvirt's own rules) and
//   throws `TypedXMLError` (path, attribute, value, reason) at that access; writing re-spells
//   only that value's nodes, keeps the existing spelling when the value is unchanged, and
//   creates missing elements at their schema position. Everything the keys do not cover is
//   never touched, so it round-trips byte for byte.
