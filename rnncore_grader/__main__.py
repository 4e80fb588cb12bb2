from rnncore_grader.cli import main

raise SystemExit(main())
