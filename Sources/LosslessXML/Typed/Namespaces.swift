// Namespaced elements (`<qemu:commandline>`) are matched by namespace URI, not by the prefix
// as written: libvirt accepts `<ns0:commandline xmlns:ns0='…qemu/1.0'>` or a default namespace,
// and `xmlns:qemu='urn:dummy'` does not make an element QEMU's. Keys name such elements with
// libvirt's usual prefix; these helpers translate.

/// The namespaces typed views model, by the prefix libvirt formats them with.
let knownNamespaces: [String: String] = [
    "qemu": "http://libvirt.org/schemas/domain/qemu/1.0",
    "dnsmasq": "http://libvirt.org/schemas/network/dnsmasq/1.0",
    "fs": "http://libvirt.org/schemas/storagepool/fs/1.0",
    "rbd": "http://libvirt.org/schemas/storagepool/rbd/1.0",
]
private let prefixForNamespace: [String: String] = Dictionary(uniqueKeysWithValues: knownNamespaces.map { ($1, $0) })

/// The name the key tables use for `element` when its written name is not one of `names`:
/// `qemu:<local>` for an element in the QEMU namespace whatever its prefix. Only computed on a
/// miss, so plain libvirt elements pay one dictionary lookup.
func schemaName<T>(of element: LosslessXMLElement, in names: [String: T]) -> String {
    let written = element.name
    if names[written] != nil, !written.contains(":") { return written }
    guard let uri = element.namespaceURI, let prefix = prefixForNamespace[uri] else {
        // A prefixed element outside the known namespaces never matches a key.
        return written.contains(":") ? "{\(element.namespaceURI ?? "")}" + element.localName : written
    }
    return prefix + ":" + element.localName
}

/// The children of `parent` that a key named `name` refers to.
func typedChildren(of parent: LosslessXMLElement, named name: String) -> [LosslessXMLElement] {
    guard name.contains(":") else { return parent.children(named: name) }
    let table = [name: ()]
    return parent.childElements.filter { schemaName(of: $0, in: table) == name }
}

func firstTypedChild(of parent: LosslessXMLElement, named name: String) -> LosslessXMLElement? {
    guard name.contains(":") else { return parent.firstChild(named: name) }
    let table = [name: ()]
    return parent.childElements.first { schemaName(of: $0, in: table) == name }
}

/// After inserting a new `prefix:name` element: bind the prefix to its namespace, on the
/// document root when the prefix is free there (libvirt's style), else on the element itself.
func declareNamespace(of element: LosslessXMLElement) {
    guard let prefix = element.prefix, let uri = knownNamespaces[prefix], element.namespaceURI != uri else { return }
    var root = element
    while let p = root.parent { root = p }
    if root !== element, root.attribute("xmlns:" + prefix) == nil, element.namespaceURI == nil {
        root.setAttribute("xmlns:" + prefix, uri)
    } else {
        element.setAttribute("xmlns:" + prefix, uri)
    }
}
