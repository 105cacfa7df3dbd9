$SL --version
