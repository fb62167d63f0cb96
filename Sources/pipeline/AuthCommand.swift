import ArgumentParser

struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Get the credentials a destination needs (a refresh token), once, by its documented sign-in flow.",
        subcommands: [AuthGoogleCommand.self]
    )
}
