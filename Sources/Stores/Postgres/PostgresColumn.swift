import NIOCore
import PostgresNIO

/// One column of a bulk write, built as PostgreSQL's binary array format while rows are added, and
/// bound as a single parameter (`unnest($1::text[], $2::int8[], …)`): a batch of 20,000 events is
/// one statement with a handful of parameters, not 20,000 statements. Unlike postgres-nio's own
/// `Array` encoding it holds NULLs (an absent summary, an event that never ends).
struct PostgresColumn: PostgresDynamicTypeEncodable {
    enum Element {
        case text, int8, bool, bytea

        var type: PostgresDataType {
            switch self {
            case .text: .text
            case .int8: .int8
            case .bool: .bool
            case .bytea: .bytea
            }
        }

        var arrayType: PostgresDataType {
            switch self {
            case .text: .textArray
            case .int8: .int8Array
            case .bool: .boolArray
            case .bytea: .byteaArray
            }
        }
    }

    let element: Element
    private(set) var count = 0
    private var hasNull = false
    private var elements: ByteBuffer

    init(_ element: Element, capacity: Int = 0) {
        self.element = element
        self.elements = ByteBufferAllocator().buffer(capacity: capacity * (element == .text ? 24 : 12))
    }

    var psqlType: PostgresDataType { element.arrayType }
    var psqlFormat: PostgresFormat { .binary }

    mutating func appendNull() {
        count += 1
        hasNull = true
        elements.writeInteger(Int32(-1))
    }

    mutating func append(_ value: String?) {
        precondition(element == .text)
        guard let value else { return appendNull() }
        count += 1
        var text = value
        let hasNUL = text.withUTF8 { $0.contains(0) }
        // PostgreSQL text cannot hold U+0000; a stranger's feed may. It is stored as U+FFFD.
        if hasNUL { text = text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") }
        text.withUTF8 { bytes in
            elements.writeInteger(Int32(bytes.count))
            elements.writeBytes(bytes)
        }
    }

    mutating func append(_ value: Int64?) {
        precondition(element == .int8)
        guard let value else { return appendNull() }
        count += 1
        elements.writeInteger(Int32(8))
        elements.writeInteger(value)
    }

    mutating func append(_ value: Bool) {
        precondition(element == .bool)
        count += 1
        elements.writeInteger(Int32(1))
        elements.writeInteger(UInt8(value ? 1 : 0))
    }

    mutating func append(bytes: [UInt8]) {
        precondition(element == .bytea)
        count += 1
        elements.writeInteger(Int32(bytes.count))
        elements.writeBytes(bytes)
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        // Header: dimensions, has-nulls flag, element type; then per dimension its length and
        // lower bound; then each element as a length (-1: NULL) and its bytes.
        buffer.writeInteger(Int32(count == 0 ? 0 : 1))
        buffer.writeInteger(Int32(hasNull ? 1 : 0))
        buffer.writeInteger(element.type.rawValue)
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))
        buffer.writeInteger(Int32(1))
        buffer.writeImmutableBuffer(elements)
    }
}
