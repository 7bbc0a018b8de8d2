import Foundation

// Builders for the parts of etcd's transactions, so that each call reads as the transaction it is.

extension Etcdserverpb_RequestOp {
    static func put(_ key: Data, _ value: Data, lease: Int64 = 0, prevKv: Bool = false) -> Self {
        var put = Etcdserverpb_PutRequest()
        put.key = key
        put.value = value
        put.lease = lease
        put.prevKv = prevKv
        var op = Self()
        op.requestPut = put
        return op
    }

    static func range(_ key: Data) -> Self {
        var range = Etcdserverpb_RangeRequest()
        range.key = key
        var op = Self()
        op.requestRange = range
        return op
    }

    static func delete(_ key: Data, prevKv: Bool = false) -> Self {
        var deletion = Etcdserverpb_DeleteRangeRequest()
        deletion.key = key
        deletion.prevKv = prevKv
        var op = Self()
        op.requestDeleteRange = deletion
        return op
    }

    /// A nested transaction of unconditional operations (etcd counts its 128-operation limit per level).
    static func all(_ operations: [Self]) -> Self {
        var op = Self()
        op.requestTxn = Etcdserverpb_TxnRequest(if: [], then: operations)
        return op
    }
}

extension Etcdserverpb_Compare {
    private init(_ key: Data, _ target: Etcdserverpb_Compare.CompareTarget, _ result: Etcdserverpb_Compare.CompareResult) {
        self.init()
        self.key = key
        self.target = target
        self.result = result
    }

    /// The key does not exist (etcd compares a missing key's revisions as 0).
    static func absent(_ key: Data) -> Self {
        var compare = Self(key, .create, .equal)
        compare.createRevision = 0
        return compare
    }

    static func exists(_ key: Data) -> Self {
        var compare = Self(key, .create, .greater)
        compare.createRevision = 0
        return compare
    }

    static func modRevision(_ key: Data, is revision: Int64) -> Self {
        var compare = Self(key, .mod, .equal)
        compare.modRevision = revision
        return compare
    }

    static func version(_ key: Data, is version: Int64) -> Self {
        var compare = Self(key, .version, .equal)
        compare.version = version
        return compare
    }

    static func value(_ key: Data, is value: Data) -> Self {
        var compare = Self(key, .value, .equal)
        compare.value = value
        return compare
    }
}

extension Etcdserverpb_TxnRequest {
    init(if compare: [Etcdserverpb_Compare], then success: [Etcdserverpb_RequestOp], else failure: [Etcdserverpb_RequestOp] = []) {
        self.init()
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}
