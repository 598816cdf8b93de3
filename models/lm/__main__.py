"""``python -m sales_assistant.models.lm``: build the character LM (see models.lm.build)."""
from sales_assistant.models.lm.build import main

main()
