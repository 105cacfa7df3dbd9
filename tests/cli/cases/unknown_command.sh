$SL frobnicate $T
