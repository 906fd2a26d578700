// The whippet command line: thin glue between CLI11 and libwhippet. Each
// command is in command_<name>.cc; this file adds the global options, runs
// the chosen command and turns errors into messages and exit codes.

#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "cli_state.h"
#include "commands.h"
#include "error_report.h"

namespace {

constexpr int kUsageExitCode = 2;
constexpr int kFailureExitCode = 1;

void add_global_options(CLI::App& app, whippet::cli::GlobalOptions& global) {
  app.add_option("--brokers", global.brokers,
                 "Kafka bootstrap servers, host:port[,host:port]; default: WHIPPET_BROKERS, "
                 "then a running `whippet up`, then an embedded cluster inside the command");
  app.add_option("--config", global.config_file,
                 "YAML configuration file (cluster, producer, consumer sections); WHIPPET_* "
                 "environment variables override it, command-line options override both")
      ->check(CLI::ExistingFile);
  app.add_flag("-v,--verbose", global.verbosity,
               "More logging on stderr: -v info, -vv debug, -vvv trace (default: warnings)");
}

}  // namespace

int main(int argc, char** argv) {
  whippet::cli::CliState state;
  CLI::App app{"whippet: produce, consume and administer Kafka topics with libwhippet, against "
               "a real cluster or an embedded one that needs nothing installed."};
  app.name("whippet");
  // Subcommands inherit this: global options may come after the command too.
  app.fallthrough();
  app.require_subcommand(1);
  add_global_options(app, state.global);
  app.footer(
      "Examples:\n"
      "  whippet up --topic orders:4                 # an embedded cluster, in another terminal\n"
      "  whippet topics list\n"
      "  seq 3 | whippet produce orders\n"
      "  whippet consume orders --from earliest --max 3\n"
      "  whippet --brokers localhost:9092 groups list\n"
      "\n"
      "Logs go to stderr, data to stdout. Exit codes: 0 success, 1 failure, 2 usage error.\n"
      "Run `whippet COMMAND --help` for a command's options.");
  app.parse_complete_callback([&] { whippet::cli::configure_logging(state.global.verbosity); });

  whippet::cli::add_up_command(app, state);
  whippet::cli::add_produce_command(app, state);
  whippet::cli::add_consume_command(app, state);
  whippet::cli::add_topics_command(app, state);
  whippet::cli::add_groups_command(app, state);
  whippet::cli::add_sidecar_command(app, state);
  whippet::cli::add_fanout_command(app, state);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // app.exit prints help or the usage error; --help itself exits 0.
    return app.exit(error) == 0 ? 0 : kUsageExitCode;
  } catch (const whippet::Error& error) {
    whippet::cli::report_error(error, state.target);
    return kFailureExitCode;
  } catch (const std::exception& error) {
    fmt::print(stderr, "whippet: error: {}\n", error.what());
    return kFailureExitCode;
  }
  return state.exit_code;
}
