"""`python -m faceswap_cli ...` is the same as `faceswap ...`."""

from faceswap_cli.main import main

raise SystemExit(main())
