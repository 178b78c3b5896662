"""The entry point to give `spark-submit`: the same as
`python -m wirecluster.spark` (arguments: INPUT... OUTPUT [options]).

    spark-submit [spark options] scripts/spark-job.py INPUT OUTPUT [options]
"""

from wirecluster.spark import main

if __name__ == "__main__":
    raise SystemExit(main())
