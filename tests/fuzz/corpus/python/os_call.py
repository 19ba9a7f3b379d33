import os
os.system("echo hacked")
