"""The Streamlit dataset browser and curator: `streamlit run app.py -- --data data/` (or `qwop-app`).

Everything lives in `qwopkit/app/` (docs/app.md); this file only starts it.
"""

from qwopkit.app.shell import main

main()
