"""Read handwritten digits: the bundled 8x8 images, an MLP, a confusion matrix."""

import glassnet as gn

splits = gn.data.load_digits()
scaler = gn.data.Standardize().fit(splits.x_train)
train = gn.data.TensorDataset(scaler.transform(splits.x_train), splits.y_train)
test = (scaler.transform(splits.x_test), splits.y_test)

gn.manual_seed(0)
model = gn.train.mlp(64, [128], 10, dropout=0.1)
optimizer = gn.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
history = gn.fit(
    model,
    gn.nn.CrossEntropyLoss(label_smoothing=0.1),
    optimizer,
    gn.data.DataLoader(train, batch_size=32, shuffle=True),
    epochs=20,
    val_data=test,
    progress=False,
)
predicted = gn.predict(model, test[0]).numpy().argmax(axis=1)
print(f"test accuracy after {len(history)} epochs: {gn.train.accuracy(predicted, test[1]):.2%}")
print(gn.train.format_confusion_matrix(gn.train.confusion_matrix(test[1], predicted, 10)))
assert gn.train.accuracy(predicted, test[1]) > 0.95
