"""The script `qwop-app` hands to Streamlit (the same as app.py at the repository's root)."""

from qwopkit.app.shell import main

main()
