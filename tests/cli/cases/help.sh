$SL --help
