"""qwopkit.commands: the console commands that span several parts. Floor: applications.

- run.py: `qwop-run`, the main job (a bot's runs, cloning, fine-tuning, evaluation);
- data.py: `qwop-data`, the dataset's command with the game's and the learners' tools plugged in;
- play.py: `qwop-play`, the bundled game in a browser window.

The other commands live with their application: qwop-record (qwopkit.recorder), qwop-app
(qwopkit.app), qwop-pretrain / qwop-finetune / qwop-eval (qwopkit.training), qwop-bench
(qwopkit.bench).
"""
