"""Former home of the ACER policy, kept so that model zips written before the move still load.

SB3 zips name their policy class by module: zips from qwop-pretrain before 0.2 name
`qwopkit.rl.policy.ACERPolicy`. New code imports from `qwopkit.rl.policies`.
"""

from .policies import SEED_NET_ARCH, ACERPolicy, ModelFileError, load_policy, read_model_info, save_policy

__all__ = ["SEED_NET_ARCH", "ACERPolicy", "ModelFileError", "load_policy", "read_model_info", "save_policy"]
