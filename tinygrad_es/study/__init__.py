"""The student paper's study, and the `diagnose` command: applications built on the library.

A 64-32-16-10 network is trained with minibatch SGD on the digits for every cell of the grid
cost x activation x initialization, at each learning rate and seed. The paper's Table 1 calls
its 60% split "Test" and its two 20% splits "Train" and "Validation", yet trains on the 60%. We
keep the sizes and name the splits by their use: train on the 60% ("train"), choose each cell's
learning rate on one 20% split ("select", the paper's "Train") and report accuracy on the other
20% ("report", the paper's "Validation", which its Tables 2 and 3 show).

Two protocols:
- "paper": the same activation on every layer including the output, the paper's costs on one-hot
  targets (CE = -1/n sum [y log yhat + (1-y) log(1-yhat)], MSE = 1/(2n) sum ||y - yhat||^2),
  weights N(0,1) ("gaussian") or N(0,1)/sqrt(fan_in) ("xavier") and biases N(0,1). Outputs that
  leave (0, 1) (tanh, ReLU) would put a negative number into a log: yhat is clipped into
  [eps, 1-eps] first, as many from-scratch codes do, so the loss stays finite but such outputs
  get no gradient from the cost. The measurements (measure.py) say how often that happens.
- "modern": the named activation on the hidden layers only, a linear output (logits) with
  softmax cross-entropy or with the same 1/(2n) squared error, a weight init suited to the
  activation (He for the ReLU family, LeCun for SELU, Glorot for sigmoid/tanh-like) and zero biases.

The modules, by job:
- grid.py: what to run (`Study`), the paper's numbers, and the summary of finished runs per cell;
- training.py: the one model builder and the one training loop, for `paper` and `diagnose`;
- measure.py: why a network does not learn, in numbers;
- parallel.py: the runs in worker processes;
- report.py: tables, results files and figures;
- run.py: the `paper` command: the grid with a progress bar, stopped cleanly by Ctrl-C or SIGTERM;
- diagnose.py: the `diagnose` command: inside a deep network, and the course notes' three claims.
"""
