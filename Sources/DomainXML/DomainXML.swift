// DomainXML is the domain schema (`<domain>` and its devices) on the LosslessXML engine.
// Its views name LosslessXML's document and key types in their public API, so the engine is
// re-exported: `import DomainXML` alone is enough to parse, edit and serialize domain XML.
@_exported import LosslessXML
