import Testing
@testable import PipelineCore

@Suite("Include and exclude: an excluded folder is left out whole")
struct SourceSelectionTests {
    func selection(include: [String] = [], exclude: [String] = []) -> SourceSelection {
        SourceSelection(include: include.map { GlobPattern($0)! }, exclude: exclude.map { GlobPattern($0)! })
    }

    @Test func excludingAFolderLeavesOutEverythingBelowItAtAnyDepth() {
        let selection = selection(exclude: ["lost+found"])
        #expect(!selection.selects(path: "/lost+found/#1234"))
        #expect(!selection.selects(path: "/disk2/lost+found/a/b.jpg"))
        #expect(selection.selects(path: "/lost+found.jpg"), "a file of a similar name is still taken")
        #expect(!selection.entersFolder("/lost+found") && !selection.entersFolder("/disk2/lost+found"))
        #expect(selection.entersFolder("/disk2"))
    }

    @Test func hiddenFoldersAreLeftOutWithTheirFiles() {
        let selection = selection(include: ["**/*.jpg"], exclude: ["**/.*"])
        #expect(!selection.selects(path: "/2024/.thumbnails/a.jpg"), "the old rule took a visible file in a hidden folder")
        #expect(!selection.selects(path: "/2024/.a.jpg"))
        #expect(selection.selects(path: "/2024/a.jpg"))
        #expect(!selection.selects(path: "/2024/a.png"), "include still applies")
    }

    @Test func includePatternsAreMatchedAgainstFilesNotFolders() {
        let selection = selection(include: ["**/*.jpg"])
        #expect(!selection.selects(path: "/x.jpg/notes.txt"))
        #expect(selection.entersFolder("/x.jpg"), "include never keeps a source out of a folder")
    }

    @Test func aListingIsSelectedOnceAPathAndInOrder() {
        let selection = selection(exclude: ["/private"])
        let listed = ["/b.jpg", "/private/x.jpg", "/a.jpg", "/b.jpg", "/private", "/privateer/y.jpg"].map { SourceItem(path: $0, size: 1) }
        #expect(selection.select(listed).map(\.path) == ["/b.jpg", "/a.jpg", "/privateer/y.jpg"])
        #expect(SourceSelection.everything.select(listed).count == 5)
    }
}
