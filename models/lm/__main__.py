"""``python -m models.lm``: build the character LM (see models.lm.build)."""
from models.lm.build import main

main()
