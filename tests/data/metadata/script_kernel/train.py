import torch
print('café')
# old mac lineprint(2)
