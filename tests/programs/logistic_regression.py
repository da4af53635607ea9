"""A regression with BCEWithLogits: random_split, a DataLoader, SGD with momentum and cosine annealing."""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(2)
true_weights = torch.tensor([1.5, -2.0, 0.5])
inputs = torch.randn(400, 3)
targets = (inputs @ true_weights + 0.3 * torch.randn(400) > 0).float()
train, validation = random_split(TensorDataset(inputs, targets), [0.75, 0.25])
print("sizes", len(train), len(validation))

model = nn.Linear(3, 1)
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6)
loader = DataLoader(train, batch_size=50, shuffle=True, drop_last=True)
for epoch in range(6):
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x).squeeze(1), y)
        loss.backward()
        optimizer.step()
    scheduler.step()
    with torch.no_grad():
        x, y = validation[:]
        validation_loss = loss_fn(model(x).squeeze(1), y)
    print(f"epoch {epoch}: train loss {loss.item():.4f}, validation loss {validation_loss.item():.4f}")
print("weights", [round(w, 3) for w in model.weight.detach().squeeze(0).tolist()])
print("bias", round(model.bias.item(), 3))
