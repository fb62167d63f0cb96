import PipelineCore

/// `pipeline state rebuild` for Google Photos: what this pipeline's albums ("Title", "Title (2)",
/// …) hold, read back with the app-created-data scope, and the memory a run that filled them would
/// have left (which album is which, how full, the ledger's positions).
extension GooglePhotosStage: DestinationInventory {
    func destinationName(of item: SourceItem) -> String { Self.fileName(of: item) }

    func inventory(stop: StopSignal, log: @escaping @Sendable (String) -> Void) async throws -> DestinationHoldings {
        guard let base = settings.album else {
            throw StageFailure.permanent("without an album (album: \"\") Google Photos keeps no record of what this pipeline uploaded")
        }
        let (settings, tokens) = (settings, tokens)
        return try await Blocking.run {
            let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: stop, budget: nil, log: log)
            // Oldest first: of two albums of one title, the one a run would have chosen comes first.
            let albums = try AlbumDirectory.appAlbums(client: client).compactMap { album in
                AlbumDirectory.number(of: album.title, in: base).map { (number: $0, album: album) }
            }
            var items: [String: [[String: JSONValue]]] = [:]
            var memory: [String: String] = [:]
            var newest = (number: 1, count: 0)
            for (number, album) in albums {
                let held = try AlbumLedger.items(of: album.id, using: client)
                log("the album '\(album.title)' holds \(held.count) items")
                for item in held {
                    var outputs: [String: JSONValue] = ["media_item_id": .string(item.id), "file_name": .string(item.fileName),
                                                        "album_id": .string(album.id)]
                    if let url = item.productURL { outputs["product_url"] = .string(url) }
                    items[item.fileName, default: []].append(outputs)
                }
                guard memory["album:\(album.title)"] == nil, album.isWriteable else { continue }
                memory["album:\(album.title)"] = album.id
                memory["ledger:\(album.id)"] = String(held.count)
                if number >= newest.number { newest = (number, held.count) }
            }
            if !albums.isEmpty { memory["album-fill:\(base)"] = "\(newest.number) \(newest.count)" }
            return DestinationHoldings(items: items, memory: memory)
        }
    }
}
