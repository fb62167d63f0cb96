/// Near a destination's daily quota, the items the remaining requests can still finish go first.
///
/// An item whose upload needs more requests than the day has left would start, spend the rest of
/// the day's quota and stop half-way; a smaller one that fits finishes. So a claim takes only items
/// of at most `sizeLimit` bytes: the largest whose requests (`QuotaModel.requestsPerItem`), plus
/// one for the shared request (a batchCreate) it joins, fit in what is left. Far from the quota the
/// limit is larger than any file; when not even the smallest item fits, there is no limit (the
/// stage stops the run at the quota, exit 75, as it always did).
public enum QuotaPreference {
    /// The size limit for `remaining` requests of `model` today, or nil for none.
    public static func sizeLimit(remaining: Int, model: QuotaModel) -> Int64? {
        let budget = remaining - (model.itemsPerSharedRequest == nil ? 0 : 1)
        guard budget >= 1, model.requestsPerItem(0) <= budget else { return nil }
        // requestsPerItem grows with the size: the largest size that fits, by bisection.
        var fits: Int64 = 0, tooLarge: Int64 = 1 << 60
        if model.requestsPerItem(tooLarge) <= budget { return nil }
        while tooLarge - fits > 1 {
            let middle = fits + (tooLarge - fits) / 2
            if model.requestsPerItem(middle) <= budget { fits = middle } else { tooLarge = middle }
        }
        return fits
    }

    /// The tightest limit of several quotas (each with what is left of it today).
    public static func sizeLimit(_ quotas: [(model: QuotaModel, remaining: Int)]) -> Int64? {
        quotas.compactMap { sizeLimit(remaining: $0.remaining, model: $0.model) }.min()
    }
}
