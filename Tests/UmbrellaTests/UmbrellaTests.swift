import Testing
import VirtKit

/// `import VirtKit` alone names every public type (AllPublicTypes.swift, generated from the
/// symbol graphs and checked by Scripts/check-public-names.py in CI): this target compiles only
/// while no two modules share a public type name. At run time each name must resolve to the
/// module the symbol graph says, not to a standard-library type of the same name.
@Suite struct UmbrellaTests {
    @Test func everyPublicTypeResolvesToItsOwnModule() {
        #expect(allPublicTypes.count > 300)
        // A type alias resolves to its underlying type, wherever that lives.
        for entry in allPublicTypes where !entry.isAlias {
            let resolved = String(reflecting: entry.type)
            #expect(resolved.hasPrefix(entry.module + ".") || resolved.hasPrefix("(any " + entry.module + "."),
                    "\(entry.name) resolved to \(resolved), expected a type of \(entry.module)")
        }
    }

    @Test func noTwoEntriesShareAName() {
        var seen = Set<String>()
        // A type alias resolves to its underlying type, wherever that lives.
        for entry in allPublicTypes where !entry.isAlias { #expect(seen.insert(entry.name).inserted, "\(entry.name) listed twice") }
    }
}
