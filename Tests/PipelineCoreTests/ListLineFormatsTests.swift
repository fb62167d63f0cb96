import Testing
@testable import Transfer

/// Real-world LIST lines (from ProFTPD, vsftpd, Pure-FTPd, GNU `ls --time-style`, localized `ls`,
/// IIS and FileZilla Server) and what each entry is.
@Suite("LIST lines of many servers and locales")
struct ListLineFormatsTests {
    static let lines: [(String, RemoteEntry)] = [
        // Unix, English, recent and older files.
        ("-rw-r--r--   1 ftp      ftp        123456 Nov 29 10:00 recent.jpg", .init(name: "recent.jpg", kind: .file, size: 123_456)),
        ("-rw-r--r--   1 ftp      ftp        123456 Nov 29  2019 old.jpg", .init(name: "old.jpg", kind: .file, size: 123_456)),
        ("-rw-r--r-- 1 ftp ftp 1 Nov 29 2019 single space year.jpg", .init(name: "single space year.jpg", kind: .file, size: 1)),
        ("-rw-r--r--    1 1000     1000          512 Jan  5 09:07 a  two  spaces.png", .init(name: "a  two  spaces.png", kind: .file, size: 512)),
        ("drwxr-xr-x    2 0        0            4096 May 01  2024 Holiday 2024", .init(name: "Holiday 2024", kind: .directory, size: 4096)),
        // No group column (some embedded servers), ACL marker, sticky bits.
        ("-rw-r--r--   1 owner          7 Feb 29  2024 leap.txt", .init(name: "leap.txt", kind: .file, size: 7)),
        ("-rw-r--r--+  1 alice staff    9 Mar  3 12:00 acl.txt", .init(name: "acl.txt", kind: .file, size: 9)),
        ("drwxrwxrwt  10 root root   4096 Dec 31 23:59 tmp", .init(name: "tmp", kind: .directory, size: 4096)),
        // ISO dates from `ls --time-style`.
        ("-rw-r--r-- 1 alice alice 2048 2024-05-01 10:00 long-iso.jpg", .init(name: "long-iso.jpg", kind: .file, size: 2048)),
        ("-rw-r--r-- 1 alice alice 2048 2024-05-01T10:00:00 iso-t.jpg", .init(name: "iso-t.jpg", kind: .file, size: 2048)),
        ("-rw-r--r-- 1 alice alice 2048 2024-05-01 10:00:00.123456789 +0200 full-iso.jpg", .init(name: "full-iso.jpg", kind: .file, size: 2048)),
        ("-rw-r--r-- 1 alice alice 2048 05-01 10:00 iso-recent.jpg", .init(name: "iso-recent.jpg", kind: .file, size: 2048)),
        ("-rw-r--r-- 1 alice alice 2048 2019-05-01 iso-old.jpg", .init(name: "iso-old.jpg", kind: .file, size: 2048)),
        ("-rw-r--r-- 1 alice alice 2048 2024-05-01T10:00:00Z zulu.jpg", .init(name: "zulu.jpg", kind: .file, size: 2048)),
        // Other locales' month names, with and without the trailing dot, month or day first.
        ("-rw-r--r-- 1 hans hans 10 Mär 29 10:00 deutsch.jpg", .init(name: "deutsch.jpg", kind: .file, size: 10)),
        ("-rw-r--r-- 1 hans hans 10 Mai  3  2021 mai.jpg", .init(name: "mai.jpg", kind: .file, size: 10)),
        ("-rw-r--r-- 1 hans hans 10 Okt 12 08:15 okt.jpg", .init(name: "okt.jpg", kind: .file, size: 10)),
        ("-rw-r--r-- 1 hans hans 10 29. Dez 10:00 tag zuerst.jpg", .init(name: "tag zuerst.jpg", kind: .file, size: 10)),
        ("-rw-r--r-- 1 jean jean 11 29 déc. 10:00 français.jpg", .init(name: "français.jpg", kind: .file, size: 11)),
        ("-rw-r--r-- 1 jean jean 11 févr. 14  2020 février.jpg", .init(name: "février.jpg", kind: .file, size: 11)),
        ("-rw-r--r-- 1 jean jean 11 août  1 07:30 août.jpg", .init(name: "août.jpg", kind: .file, size: 11)),
        ("-rw-r--r-- 1 jean jean 11 juil. 14 07:30 juillet.jpg", .init(name: "juillet.jpg", kind: .file, size: 11)),
        ("-rw-r--r-- 1 pepe pepe 12 ene 15 10:00 enero.jpg", .init(name: "enero.jpg", kind: .file, size: 12)),
        ("-rw-r--r-- 1 pepe pepe 12 dic. 24  2022 diciembre.jpg", .init(name: "diciembre.jpg", kind: .file, size: 12)),
        ("-rw-r--r-- 1 gino gino 13 gen 15 10:00 gennaio.jpg", .init(name: "gennaio.jpg", kind: .file, size: 13)),
        ("-rw-r--r-- 1 gino gino 13 mag  2  2018 maggio.jpg", .init(name: "maggio.jpg", kind: .file, size: 13)),
        ("-rw-r--r-- 1 gino gino 13 ott  2 11:11 ottobre.jpg", .init(name: "ottobre.jpg", kind: .file, size: 13)),
        ("-rw-r--r-- 1 piet piet 14 mrt  9 10:00 maart.jpg", .init(name: "maart.jpg", kind: .file, size: 14)),
        ("-rw-r--r-- 1 piet piet 14 mei  9  2017 mei.jpg", .init(name: "mei.jpg", kind: .file, size: 14)),
        ("-rw-r--r-- 1 joão joão 15 fev 28 10:00 fevereiro.jpg", .init(name: "fevereiro.jpg", kind: .file, size: 15)),
        ("-rw-r--r-- 1 joão joão 15 out. 10  2016 outubro.jpg", .init(name: "outubro.jpg", kind: .file, size: 15)),
        ("-rw-r--r-- 1 joão joão 15 dez 25 23:00 dezembro.jpg", .init(name: "dezembro.jpg", kind: .file, size: 15)),
        // Names: spaces inside and at the start, brackets, dashes, a link target, a huge size.
        ("-rw-r--r--   1 alice staff     7 Jan 02  2020   two leading spaces", .init(name: "  two leading spaces", kind: .file, size: 7)),
        ("-rw-r--r--   1 alice staff     7 Jan 02  2020 -r [x] (copy) ü.jpg", .init(name: "-r [x] (copy) ü.jpg", kind: .file, size: 7)),
        ("-rw-r--r--   1 alice staff     7 Jan 02  2020 2024-05-01 10:00 looks like a date.jpg", .init(name: "2024-05-01 10:00 looks like a date.jpg", kind: .file, size: 7)),
        ("lrwxrwxrwx   1 alice staff    11 Jan 02  2020 latest -> 2024/a.jpg", .init(name: "latest", kind: .link, size: 11)),
        ("-rw-r--r--   1 ftp   ftp  12345678901 Feb 29  2024 big.mkv", .init(name: "big.mkv", kind: .file, size: 12_345_678_901)),
        ("crw-rw-rw-   1 root  root   1,   3 Nov 29 10:00 null", .init(name: "null", kind: .other)),
        // DOS / IIS.
        ("05-01-24  10:00AM       <DIR>          My Folder", .init(name: "My Folder", kind: .directory)),
        ("05-01-24  10:00PM             123456 clip (1).mp4", .init(name: "clip (1).mp4", kind: .file, size: 123_456)),
        ("05-01-2024  10:00  1,234,567 with commas.mov", .init(name: "with commas.mov", kind: .file, size: 1_234_567)),
        ("2024-05-01  22:10  <DIR>  iso dos", .init(name: "iso dos", kind: .directory)),
    ]

    @Test(arguments: lines)
    func eachServersLineGivesItsEntry(line: String, expected: RemoteEntry) {
        #expect(DirectoryListingParser.listEntry(line) == expected, "\(line)")
    }
}

/// Lines the fuzzer (Scripts/fuzz) found crashing the parser; each must give a verdict, not a trap.
@Suite("Listing lines found by fuzzing")
struct ListingFuzzFindingsTests {
    @Test(arguments: ["--rw-r-r---  wg\u{1}u1 ", "--rwr--r--  \u{FFFD}-rrw\u{FFFD}--\r\u{FFFD}r\u{FFFD}", "-rw-r--r--", "drwxr-xr-x 2"])
    func aShortModeLineIsRefusedNotATrap(line: String) {
        _ = DirectoryListingParser.listLine(line)
    }
}
