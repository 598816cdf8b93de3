"""The closing network: the pretrained ELECTRA-small encoder, the mean of its last hidden states over the
real tokens, dropout and one linear layer to two logits (needs answer, closing)."""
from __future__ import annotations

import torch
from transformers import ElectraConfig, ElectraModel


class ClosingNet(torch.nn.Module):
    def __init__(self, electra: dict, dropout: float = 0.1):
        super().__init__()
        self.encoder = ElectraModel(ElectraConfig(**electra))
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 2)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return self.head(self.dropout(pooled))

